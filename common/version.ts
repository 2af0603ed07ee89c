/** Engine version, recorded in bundles' manifests. */
export const ENGINE_VERSION = '0.1.0';
/** Bumped whenever the gRPC control or data messages change incompatibly. */
export const PROTOCOL_VERSION = 3;
