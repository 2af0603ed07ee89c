// Flink-shaped JSON of a TaskManager (GET /taskmanagers and /taskmanagers/:id). Flink's clients
// deserialize every field of its TaskManagerInfo, so all are present; Weir has no memory budgets
// (no managed memory, no JVM), so the numbers are measurements where Weir has one and 0 otherwise.
import { availableParallelism, freemem, hostname, totalmem } from 'node:os';
import type { TaskManagerInfo } from '../resource-manager.js';

/** Flink's ResourceProfileInfo; memory in MiB as Flink reports it. */
function resourceProfile(cpuCores: number): Record<string, unknown> {
  // Flink's default taskmanager.cpu.cores is the number of slots: one core per slot, which is also
  // how Weir runs slots (a worker thread each). Weir gives slots no memory budgets: 0.
  return {
    cpuCores,
    taskHeapMemory: 0,
    taskOffHeapMemory: 0,
    managedMemory: 0,
    networkMemory: 0,
    extendedResources: {},
  };
}

/**
 * The machine's cores and memory, known only when the TaskManager runs on the JobManager's host
 * (TaskManagers do not report their hardware); 0 means unknown.
 */
function hardware(tm: TaskManagerInfo): Record<string, number> {
  const local = tm.hostname === hostname();
  return {
    cpuCores: local ? availableParallelism() : 0,
    physicalMemory: local ? totalmem() : 0,
    // Flink puts its JVM heap size here; Node has no fixed heap to report, so: the host's free memory.
    freeMemory: local ? freemem() : 0,
    managedMemory: 0,
  };
}

/** Flink's TaskExecutorMemoryConfiguration: the process's resident size and JS heap in use from its heartbeats; no other budgets exist in Weir. */
function memoryConfiguration(tm: TaskManagerInfo): Record<string, number> {
  return {
    frameworkHeap: 0,
    taskHeap: tm.heapUsedBytes,
    frameworkOffHeap: 0,
    taskOffHeap: 0,
    networkMemory: 0,
    managedMemory: 0,
    jvmMetaspace: 0,
    jvmOverhead: 0,
    // As in Flink, the sum of the parts above.
    totalFlinkMemory: tm.heapUsedBytes,
    totalProcessMemory: tm.rssBytes,
  };
}

export function taskManagerJson(tm: TaskManagerInfo): Record<string, unknown> {
  const freeSlots = tm.allocations.filter((a) => a === null).length;
  return {
    id: tm.id,
    path: tm.rpcAddress,
    // Control and data share the TaskManager's one gRPC port.
    dataPort: Number(tm.rpcAddress.split(':').pop()),
    jmxPort: -1,
    timeSinceLastHeartbeat: tm.lastHeartbeat,
    slotsNumber: tm.slots,
    freeSlots,
    totalResource: resourceProfile(tm.slots),
    freeResource: resourceProfile(freeSlots),
    hardware: hardware(tm),
    memoryConfiguration: memoryConfiguration(tm),
    blocked: false,
    // Beyond Flink.
    hostname: tm.hostname,
    pid: tm.pid,
    registered: tm.registeredAt,
    metricsAddress: tm.metricsAddress,
    memory: { rss: tm.rssBytes, heapUsed: tm.heapUsedBytes },
  };
}
