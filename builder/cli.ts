#!/usr/bin/env node
// kiln: bakes bootable Kubernetes node images from a declarative image spec.
import { main } from '../core/cli.ts';
import { KILN } from './program.ts';

main(KILN);
