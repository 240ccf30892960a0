#!/usr/bin/env node
/**
 * The CDK app: `npx cdk synth -c stage=dev|prod` (default dev). Environment-agnostic: no account,
 * region or lookups are needed to synthesize, so `cdk synth` runs offline.
 */
import { App } from 'aws-cdk-lib';
import { addNagChecks, addStacks } from '../lib/app.js';
import { printCapacityReport } from '../lib/capacity.js';
import { stageConfig } from '../lib/config.js';

const app = new App();
const config = stageConfig(app.node.tryGetContext('stage'));
addStacks(app, config);
// stderr: stdout carries the template when `cdk synth` prints one.
printCapacityReport(config);
addNagChecks(app);
app.synth();
