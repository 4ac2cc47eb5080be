// Browser-safe public entry of @prof/format: no Node built-ins may be imported from here.
export * from './schema';
export * from './errors';
export { FORMAT_PRODUCER, FORMAT_VERSION } from './producer';
export { upgradeWire, UPGRADABLE_VERSIONS } from './upgrade';
export { DocumentBuilder, emptyMeta, type FrameSpec, type FinishOptions } from './builder';
export {
  createVmprofReader,
  readVmprof,
  readVmprofDetailed,
  MAX_STACK_SLOTS,
  MAX_STRING_BYTES,
  type VmprofReader,
} from './vmprof/reader';
export { frameFromVmprofName, parseVmprofName, UNKNOWN_CODE, type ParsedVmprofName } from './vmprof/names';
export type { ReadOptions, VmprofReadResult, VmprofSymbolRecord } from './vmprof/types';
export {
  inspectVmprof,
  inspectFromResult,
  type VmprofInspection,
  type VmprofInspectHeader,
  type InspectFileInfo,
  type InspectOptions,
} from './vmprof/inspect';
export { Sha256, type IncrementalHash } from './vmprof/compat-sha256';
export { encodeDocument, decodeDocument, decodeDocumentGzip, DEFAULT_MAX_INFLATED_BYTES } from './codec';
export { assertIntegrity } from './integrity';
export { documentDuration, documentSummary, profileDuration, topFunction, type DocumentSummary } from './summary';
export { eachSample, type SampleGroups, type StreamedSamples } from './sample-groups';
export {
  isLauncherFile,
  nameThreadsByEntry,
  nameVmprofRun,
  runnerStackRows,
  scriptFile,
  scriptName,
} from './runner-frames';
export { detectFormat, DETECT_HEAD_BYTES, type DetectedFormat } from './detect';
export { readSpeedscope, isSpeedscope } from './speedscope/reader';
export { exportSpeedscope, type SpeedscopeExportOptions } from './speedscope/export';
export { readVmprofTree, vmprofTreeToDocument, isVmprofTree } from './vmprof-tree/reader';
export { readVmprofViewerSubmit, isVmprofViewerSubmit } from './vmprof-viewer/reader';
export {
  importProfile,
  readFormat,
  MAX_TEXT_PROFILE_BYTES,
  type ImportHints,
  type ImportInput,
  type ProfileFormat,
} from './import';
export { inflateGzip } from './inflate';
export { readFolded, isFolded } from './folded/reader';
export { readAustin, isAustin } from './austin/reader';
export { readV8CpuProfile, type V8ReadOptions, type MemoryReadings } from './v8/cpuprofile';
