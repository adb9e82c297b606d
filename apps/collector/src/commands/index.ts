import type { Command } from '../command.ts';
import { record } from './record.ts';

/** Every `firesight` subcommand, in the order `--help` lists them. */
export const commands: readonly Command[] = [record];
