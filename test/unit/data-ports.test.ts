// taskmanager.data.port / taskmanager.data.bind-port: one port range per TaskManager, slot i at
// port + i, announced and bound ports apart for NAT and port forwarding.
import { describe, expect, it } from 'vitest';
import { Configuration } from '../../common/config.js';
import { slotDataPorts } from '../../taskmanager/slot/data-ports.js';

describe('slot data ports', () => {
  it('binds free ports and announces the bound ones by default', () => {
    expect(slotDataPorts(new Configuration(), 2)).toEqual([
      { bind: 0, announced: 0 },
      { bind: 0, announced: 0 },
    ]);
  });

  it('binds and announces taskmanager.data.port + slot when only it is set, as Flink', () => {
    expect(
      slotDataPorts(new Configuration({ 'taskmanager.data.port': '7000' }), 3).map((p) => [p.bind, p.announced]),
    ).toEqual([
      [7000, 7000],
      [7001, 7001],
      [7002, 7002],
    ]);
  });

  it('binds taskmanager.data.bind-port + slot and announces taskmanager.data.port + slot', () => {
    expect(
      slotDataPorts(new Configuration({ 'taskmanager.data.port': '40000', 'taskmanager.data.bind-port': '7000' }), 2),
    ).toEqual([
      { bind: 7000, announced: 40000 },
      { bind: 7001, announced: 40001 },
    ]);
    // Bound to free ports, each announced as it is bound.
    expect(slotDataPorts(new Configuration({ 'taskmanager.data.bind-port': '0' }), 1)).toEqual([
      { bind: 0, announced: 0 },
    ]);
  });

  it('refuses a range that runs past 65535 or a negative port', () => {
    expect(() => slotDataPorts(new Configuration({ 'taskmanager.data.port': '65535' }), 2)).toThrow(
      /taskmanager.data.port must be 0 or a port from which 2 slot\(s\) count up to at most 65535, got 65535/,
    );
    expect(() => slotDataPorts(new Configuration({ 'taskmanager.data.bind-port': '-1' }), 1)).toThrow(
      /taskmanager.data.bind-port/,
    );
  });
});
