import type { Command } from 'commander';
export function registerInit(_program: Command) {}
