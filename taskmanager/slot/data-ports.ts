// Where each slot's data server listens and which port it announces (Flink's taskmanager.data.port
// and taskmanager.data.bind-port). They differ behind NAT or port forwarding, where other
// TaskManagers reach this one at other ports than those it listens on. Every slot has a data server
// of its own, so a configured port is the first of a range: slot i uses port + i.
import type { Configuration } from '../../common/config.js';

export interface SlotDataPorts {
  /** Port the data server binds; 0 picks a free one. */
  bind: number;
  /** Port other TaskManagers are told to connect to; 0 announces the bound one. */
  announced: number;
}

function portRange(key: string, base: number, slots: number): number {
  if (!Number.isInteger(base) || base < 0 || (base > 0 && base + slots - 1 > 65535)) {
    throw new Error(`${key} must be 0 or a port from which ${slots} slot(s) count up to at most 65535, got ${base}`);
  }
  return base;
}

export function slotDataPorts(conf: Configuration, slots: number): SlotDataPorts[] {
  const announced = portRange('taskmanager.data.port', conf.getInt('taskmanager.data.port'), slots);
  const bind =
    conf.getOptionalString('taskmanager.data.bind-port') === undefined
      ? announced
      : portRange('taskmanager.data.bind-port', conf.getInt('taskmanager.data.bind-port'), slots);
  return Array.from({ length: slots }, (_, i) => ({
    bind: bind === 0 ? 0 : bind + i,
    announced: announced === 0 ? 0 : announced + i,
  }));
}
