/** The platform-independent public API, re-exported by index.ts (Node) and browser.ts. */
export {
  PrivateInferenceClientBase, DEFAULT_TIMEOUT_MS,
  type ClientOptions, type PredictOptions, type PredictProgress, type ProgressStage, type Prediction, type BatchPrediction,
  type LabelPrediction, type BatchLabelPrediction, type LabelModePrivacy, type LabelDecision, type LabelMask,
} from './client.js';
export {
  MpcError, PrivateInferenceError, DeadlineError, PeerUnavailableError, InputError, ModelMismatchError, ServerError,
  BudgetExhaustedError, PrivacyPolicyError,
  type ErrorCode, type ClientErrorContext,
} from './errors.js';
export type { Tensor, ImageBytes, ImageInput } from './input.js';
export type { RawImage, ImageDecoder, OrientationNote } from './image/types.js';
export { preprocessImage, specForInputShape, specForModel, convertChannels, type PreprocessSpec } from './image/preprocess.js';
export { resizeBilinear } from './image/resize.js';
export { applyOrientation } from './image/exif.js';
export { checkRangeSentinel, RANGE_SENTINEL_MESSAGE } from './range-sentinel.js';
export { decodeDicom, isDicom, DICOM_TRANSFER_SYNTAXES, type DicomImage, type DicomDisplay, type DicomOptions, type DicomProblem } from './image/dicom.js';
export { splitShares, reconstructShares, randomU64, addU64, subU64, u64ToBytes, bytesToU64, sessionKey } from './ring.js';
export { encode as encodeFixedPoint, decode as decodeFixedPoint, DEFAULT_FRAC_BITS } from '../../protocol/fixed-point/fixed-point.js';
export { softmax, sigmoid, outputKind, findings, maskOutput, DECISION_THRESHOLD, type OutputKind, type Finding, type MaskOutput } from './activation.js';
export { TrioPool, type TrioPoolOptions } from './trio-pool.js';
export type { ModelInfo, CompareBound, CreateSessionRequest, CreateSessionResponse, ApiError, OutputMode, PrivacyOptions, DpOptions, OutputPrivacy } from '../../protocol/api-contract.js';
