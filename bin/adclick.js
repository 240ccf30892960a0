#!/usr/bin/env node
// The installed `adclick` command: runs the TypeScript entry point through tsx's loader, so the
// package ships its sources without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./adclick.ts');
