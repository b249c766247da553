/// <reference types="node" preserve="true" />
// ^ our .d.ts use Node's types: this loads @types/node (a peer) whatever the tsconfig "types" say
export {
  createLinuxkit,
  type LinuxkitBackend,
  type LinuxkitSettings,
  linuxkit,
  linuxkitSettingsSchema,
} from './backend.js';
export {
  BUILD_FORMATS,
  type BuildFormat,
  type BuildRequest,
  type BuildResult,
  buildImage,
  buildOutputs,
  linuxkitBuildArgv,
} from './build.js';
export { LinuxkitDriver } from './driver.js';
export { findUefiFirmware, OVMF_CANDIDATES } from './firmware.js';
export {
  type Firmware,
  type ImageFormat,
  imageFiles,
  type ResolvedImage,
  resolveImage,
} from './image.js';
export { type FileInfo, type FileKind, identifyFile } from './magic.js';
export {
  type LinuxkitOptions,
  type LinuxkitOptionsInput,
  linuxkitOptionsSchema,
  type TemplateRequest,
} from './options.js';
export {
  substituteVariables,
  type TemplateVariables,
  type TemplateVars,
  templateVariables,
} from './template-vars.js';
export {
  BUILTIN_TEMPLATES_DIR,
  createTemplateCatalog,
  defaultUserTemplatesDir,
  type Template,
  type TemplateCatalog,
  type TemplateCatalogSettings,
  type TemplateInfo,
} from './templates.js';
export { qemuOptionsFor } from './translate.js';
