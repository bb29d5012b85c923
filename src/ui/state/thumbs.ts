/**
 * Object URLs for stored thumbnails, made on first display and revoked together when a new run
 * starts, so a long session does not pin every thumbnail blob it ever showed.
 */
const urls = new Map<Blob, string>();

export function thumbUrl(blob: Blob): string {
  let url = urls.get(blob);
  if (!url) {
    url = URL.createObjectURL(blob);
    urls.set(blob, url);
  }
  return url;
}

export function revokeThumbUrls(): void {
  for (const url of urls.values()) URL.revokeObjectURL(url);
  urls.clear();
}
