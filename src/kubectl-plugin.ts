#!/usr/bin/env node
// `kubectl-rollsafe`, the CLI as a kubectl plugin (util/kubectl-plugin-io.ts): starts the bundled program
// (util/launch.ts says how, and why).
import { launch } from './util/launch.js';

await launch('kubectl-plugin', import.meta.url);
