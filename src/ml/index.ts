/** tfjs side of Winnow: backend choice, model registry and loading, preprocessing, embedding. */
export { BACKEND_ORDER, chooseBackend, currentBackend, type BackendName, type ChooseBackendOptions } from './backend.ts';
export {
  DEFAULT_MODEL_ID,
  DEFAULT_MODELS_BASE,
  RegistryError,
  findModel,
  loadRegistry,
  modelFileUrl,
  parseModelEntry,
  parseRegistry,
  type FetchLike,
  type ModelEntry,
  type ModelFile,
} from './registry.ts';
export { ModelIntegrityError, fetchModelArtifacts, loadEmbedder, sha256Hex, type Embedder, type LoadEmbedderOptions } from './load-model.ts';
export { decodeOptions, pixelsFromBitmap, resizeRgba, type Pixels } from './pixels.ts';
export { embedBatch, toInputTensor, type EmbedSpec } from './embed.ts';
