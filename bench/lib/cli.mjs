// Command-line options of `npm run bench`. One typed object, read once, passed down.

const HELP = `usage: npm run bench -- [options]

  --quick               fewer samples and smaller sizes (a smoke test, not a measurement)
  --only <substring>    run only the workloads whose name contains it (case-insensitive);
                        --only train runs the training workloads
  --impls <a,b,...>     run only these implementations (kerasm, tfjs-wasm, tfjs-cpu, jax-js)
  --flavor <flavor>     kerasm's flavor in the main process: simd (default), relaxed-simd, auto
  --no-relaxed          skip the relaxed-SIMD matmul process
  --no-readback         time tfjs ops without their dataSync() (default: with it)
  --clock <wall|cpu>    which clock the tables and targets use (default wall); cpu is the
                        benchmark thread's CPU time (Linux), steadier on a busy machine
  --json <file>         also write the results as JSON
  --help                this text
`;

/**
 * @typedef {object} Options
 * @property {boolean} quick
 * @property {string | null} only
 * @property {string[] | null} impls
 * @property {'simd' | 'relaxed-simd' | 'auto'} flavor
 * @property {boolean} relaxed      whether to start the relaxed-SIMD child process
 * @property {boolean} readback     whether tfjs's timed run includes dataSync()
 * @property {'wall' | 'cpu'} clock  which statistics the tables and targets use
 * @property {string | null} json
 * @property {string | null} child  the child's role ('relaxed-matmul'), null in the parent
 * @property {string | null} childOut where a child writes its results
 */

/** @returns {Options} */
export function parseArgs(argv) {
  /** @type {Options} */
  const options = {
    quick: false, only: null, impls: null, flavor: 'simd', relaxed: true, readback: true,
    clock: 'wall',
    json: null, child: null, childOut: null,
  };
  const value = (i, flag) => {
    if (i >= argv.length || argv[i].startsWith('--')) usage(`${flag} needs a value`);
    return argv[i];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '--quick': options.quick = true; break;
      case '--only': options.only = value(++i, arg); break;
      case '--impls': options.impls = value(++i, arg).split(',').map((s) => s.trim()); break;
      case '--flavor': options.flavor = value(++i, arg); break;
      case '--no-relaxed': options.relaxed = false; break;
      case '--no-readback': options.readback = false; break;
      case '--clock': options.clock = value(++i, arg); break;
      case '--json': options.json = value(++i, arg); break;
      case '--child': options.child = value(++i, arg); break;
      case '--child-out': options.childOut = value(++i, arg); break;
      case '--help': case '-h': process.stdout.write(HELP); process.exit(0); break;
      default: usage(`unknown option ${arg}`);
    }
  }
  if (!['simd', 'relaxed-simd', 'auto'].includes(options.flavor)) {
    usage(`--flavor must be simd, relaxed-simd or auto, got ${options.flavor}`);
  }
  if (!['wall', 'cpu'].includes(options.clock)) {
    usage(`--clock must be wall or cpu, got ${options.clock}`);
  }
  return options;
}

function usage(message) {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
}
