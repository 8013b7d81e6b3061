/**
 * The device script's parts that run without a GPU (bench/cuda-device.sh):
 * argument parsing and the dry run's plan (every model with a cuda and a cpu
 * leg, the expected time inside the budget and the device tool's 600 s).
 * The pack and a CPU-only run of the packed bundles without node_modules are
 * slower (xz of the node binary) and are run by hand (bench/CUDA-RESULTS.md).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cuda-device.sh');
const run = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('bench/cuda-device.sh without a device', () => {
  it('all --dry-run plans the parties on cuda then cpu for VGG16, DenseNet-121, ResNet-50 and the seed CNN within the budget', () => {
    const r = run('all', '--dry-run');
    expect(r.status, r.stderr).toBe(0);
    for (const m of ['cnn-maxpool', 'resnet50', 'densenet121', 'vgg16']) expect(r.stdout).toContain(`--model ${m} --batch 1 --kernels cuda,cpu --no-write`);
    expect(r.stdout).toMatch(/equality check \(bench\/cuda-check\.ts\)/);
    const total = Number(/expected total ~(\d+) s/.exec(r.stdout)?.[1]);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(560);
    expect(r.stdout).not.toMatch(/over the budget/);
  });

  it('--cpu-only plans cpu legs only, without the CUDA build or the check; a small budget says legs would be skipped', () => {
    const r = run('all', '--dry-run', '--cpu-only', '--models', 'cnn-maxpool vgg16', '--budget', '60');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/cuda,cpu|equality check/);
    expect(r.stdout).toMatch(/--kernels cpu --no-write/);
    expect(r.stdout).toMatch(/over the budget/);
  });

  it('refuses bad arguments with exit 2 and the reason', () => {
    const cases: [string[], RegExp][] = [
      [[], /usage:/],
      [['bogus'], /usage:/],
      [['all', '--frob'], /unknown option '--frob'/],
      [['all', '--budget', '900', '--dry-run'], /--budget must be an integer in 60\.\.595/],
      [['all', '--budget', 'x', '--dry-run'], /--budget must be/],
      [['all', '--models', 'vgg16;rm', '--dry-run'], /bad model key/],
      [['all', '--models', '', '--dry-run'], /--models is empty/],
    ];
    for (const [args, msg] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });
});
