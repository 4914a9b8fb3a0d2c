#!/usr/bin/env node
// `rollsafe`: starts the bundled program (util/launch.ts says how, and why).
import { launch } from './util/launch.js';

await launch('cli', import.meta.url);
