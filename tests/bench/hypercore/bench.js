// bench.js -- one side of the Hypercore 11 head-to-head (tests/bench/hypercore/run).
//
//   node bench.js writer DIR COUNT SIZE   append COUNT blocks of SIZE bytes (1,000 per
//                                         append call), then listen on 127.0.0.1 and
//                                         replicate to whoever connects; prints
//                                         {"key", "port", "fill_s"} once ready
//   node bench.js reader DIR KEY PORT COUNT
//                                         connect, replicate, download blocks
//                                         [0, COUNT) into its own store; prints
//                                         {"n", "contiguous", "seconds", "maxrss_kb"}
// Both sides replicate over Hypercore's own encrypted stream (Noise, as a
// swarm would), on plain TCP, the way mm's two processes use CURVE over TCP.
'use strict'
const net = require('net')
const Hypercore = require('hypercore')

async function writer (dir, count, size) {
  const core = new Hypercore(dir)
  await core.ready()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < count; i += 1000) {
    const batch = []
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      const b = Buffer.alloc(size, 97 + (j % 26))
      b.writeUInt32BE(j, 0)
      batch.push(b)
    }
    await core.append(batch)
  }
  const fill = Number(process.hrtime.bigint() - t0) / 1e9
  const server = net.createServer(socket => {
    const stream = core.replicate(false)
    socket.pipe(stream).pipe(socket)
    stream.on('error', () => {})
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ key: core.key.toString('hex'), port: server.address().port,
                                 fill_s: fill, length: core.length }))
  })
}

async function reader (dir, key, port, count) {
  const core = new Hypercore(dir, Buffer.from(key, 'hex'))
  await core.ready()
  const t0 = process.hrtime.bigint()
  const socket = net.connect(port, '127.0.0.1')
  const stream = core.replicate(true)
  socket.pipe(stream).pipe(socket)
  await core.update({ wait: true })
  await core.download({ start: 0, end: count }).done()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  // every block is stored (and was verified against the signed tree) by now
  console.log(JSON.stringify({ n: count, length: core.length, contiguous: core.contiguousLength, seconds,
                               maxrss_kb: process.resourceUsage().maxRSS }))
  socket.destroy()
  await core.close()
  process.exit(0)
}

const [mode, ...a] = process.argv.slice(2)
if (mode === 'writer') writer(a[0], Number(a[1]), Number(a[2]))
else if (mode === 'reader') reader(a[0], a[1], Number(a[2]), Number(a[3]))
else { console.error('usage: node bench.js writer DIR COUNT SIZE | reader DIR KEY PORT COUNT'); process.exit(2) }
