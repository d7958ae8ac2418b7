/**
 * The child side of the parent ↔ server protocol, shared by every bench server. Over stdout the
 * child announces `bench:port <n>` once; over stdin it takes one command per line (`gc`: full
 * collection, answered `bench:gc-ok`, so RSS is read after garbage is gone; a server may add its
 * own, each answered with one `bench:<command> <answer>` line). The prefix keeps
 * protocol lines apart from anything the server itself prints. Stdin closing means the parent is
 * done (or died): stop and exit, so no server outlives a bench run.
 */
export function runControl(port: number, stop: () => unknown, commands: Record<string, () => string> = {}): void {
  let pending = ''
  process.stdin.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const command = pending.slice(0, newline).trim()
      pending = pending.slice(newline + 1)
      if (command === 'gc') {
        Bun.gc(true)
        process.stdout.write('bench:gc-ok\n')
      } else if (commands[command]) {
        process.stdout.write(`bench:${command} ${commands[command]()}\n`)
      }
    }
  })
  process.stdin.on('end', async () => {
    await stop()
    process.exit(0)
  })
  process.stdout.write(`bench:port ${port}\n`)
}
