#!/usr/bin/env -S node --max-semi-space-size=64
// The installed `adclick` command: runs the TypeScript entry point through tsx's loader, so the
// package ships its sources without a build step. The larger young generation (also in
// `npm start`) saves the server a good part of its garbage-collection time under load.
import { register } from 'tsx/esm/api';

register();
await import('./adclick.ts');
