import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSizeMiB } from './units.js';

describe('units', () => {
  it('parses durations, a bare number being seconds', () => {
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });

  it('parses sizes in binary units', () => {
    expect(parseSizeMiB('512M', 'M')).toBe(512);
    expect(parseSizeMiB('2G', 'M')).toBe(2048);
    expect(parseSizeMiB('2GiB', 'M')).toBe(2048);
    expect(parseSizeMiB('1.5g', 'M')).toBe(1536);
    expect(parseSizeMiB('1024', 'M')).toBe(1024);
    expect(parseSizeMiB('10', 'G')).toBe(10 * 1024);
    expect(parseSizeMiB('0', 'M')).toBeUndefined();
    expect(parseSizeMiB('lots', 'M')).toBeUndefined();
  });

  it('formats durations for humans', () => {
    expect(formatDuration(85)).toBe('85 ms');
    expect(formatDuration(1234)).toBe('1.2 s');
    expect(formatDuration(65_000)).toBe('1m05s');
  });
});
