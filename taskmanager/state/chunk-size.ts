/** Most entries in one keyed-state chunk (snapshots and files), so no chunk grows large in memory. */
export const CHUNK_ENTRIES = 4096;
