import type { StoredFeatures } from '../../store/schema.ts';

/**
 * Object URLs for stored thumbnails, made on first display and revoked together when a new run
 * starts, so a long session does not pin every thumbnail it ever showed. Thumbnails arrive as
 * bytes (see makeThumbnail); the Blob an object URL needs is made here, only for the ones shown.
 */
const urls = new Map<ArrayBuffer | Blob, string>();

export type Thumb = Pick<StoredFeatures, 'thumb' | 'thumbType'>;

export function thumbUrl({ thumb, thumbType }: Thumb): string {
  let url = urls.get(thumb);
  if (!url) {
    url = URL.createObjectURL(thumb instanceof Blob ? thumb : new Blob([thumb], { type: thumbType ?? '' }));
    urls.set(thumb, url);
  }
  return url;
}

export function revokeThumbUrls(): void {
  for (const url of urls.values()) URL.revokeObjectURL(url);
  urls.clear();
}
