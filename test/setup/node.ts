// Node 20 accepts relaxed SIMD only behind a V8 flag. Setting it before any module is compiled
// lets the suite cover both kernel builds in Node; the plain build is still chosen explicitly
// by the tests that run both flavors.
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--experimental-wasm-relaxed-simd');
