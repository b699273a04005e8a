#!/usr/bin/env node
// kiln-firstboot: turns a booted kiln image into the node its metadata describes.
// Commands load lazily so `--version` (and the early boot pass) start as fast as node itself.
import { main } from '../core/cli.ts';
import { KILN_FIRSTBOOT } from './program.ts';

main(KILN_FIRSTBOOT);
