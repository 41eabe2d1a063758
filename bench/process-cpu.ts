// CPU time of the processes around a measurement: the service (from /proc/<pid>/stat), Redis
// (from its own INFO cpu) and the bench process itself. Sampled at the start and end of a
// measured window, so a table can say which process was the bottleneck.
import { readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const clockTicksPerSecond = 100;

/** A source of cumulative CPU seconds; undefined when it cannot be read (not Linux, process gone). */
export type CpuClock = () => Promise<number | undefined>;

export function processCpuClock(pid: number): CpuClock {
  return async () => {
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may contain spaces; fields after its closing paren are plain.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 after the name.
      return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
    } catch {
      return undefined;
    }
  };
}

export function redisCpuClock(redis: Redis): CpuClock {
  return async () => {
    const info = await redis.info('cpu');
    const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
    const system = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
    return user === undefined || system === undefined ? undefined : Number(user) + Number(system);
  };
}

export function ownCpuClock(): CpuClock {
  return async () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1e6;
  };
}

/** CPU use over a window, in percent of one core, per named process. */
export type CpuPercentages = Record<string, number | null>;

export class CpuWindow {
  private startedMs = 0;
  private readonly startSeconds = new Map<string, number | undefined>();

  constructor(private readonly clocks: Readonly<Record<string, CpuClock>>) {}

  async start(): Promise<void> {
    for (const [name, clock] of Object.entries(this.clocks)) this.startSeconds.set(name, await clock());
    this.startedMs = performance.now();
  }

  async end(): Promise<CpuPercentages> {
    const elapsedSeconds = (performance.now() - this.startedMs) / 1000;
    const percentages: CpuPercentages = {};
    for (const [name, clock] of Object.entries(this.clocks)) {
      const before = this.startSeconds.get(name);
      const after = await clock();
      percentages[name] =
        before === undefined || after === undefined || elapsedSeconds <= 0 ? null : Math.round(((after - before) / elapsedSeconds) * 100);
    }
    return percentages;
  }
}
