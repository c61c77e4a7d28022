// The developer A/B tools' command line (bench/_*.ts): positional arguments (files, a tree) and --name=value options.

/** The arguments that are not --options, in order. */
export const positionals: string[] = process.argv.slice(2).filter((a) => !a.startsWith('--'));

/** The value of --name=value, or `dflt`. */
export function opt(name: string, dflt: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
}

/** --name=value as a number, or `dflt`. */
export function flag(name: string, dflt: number): number {
  return Number(opt(name, String(dflt)));
}

/** --name=a,b,c as a list, or `dflt` split the same way. */
export function list(name: string, dflt: string): string[] {
  return opt(name, dflt).split(',');
}
