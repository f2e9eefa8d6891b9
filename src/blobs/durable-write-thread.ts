/**
 * Worker-thread entry of the durable writer (durable-writer.ts). Finishes that arrive while a
 * group is syncing wait in the port's queue; the next group takes them all (durable-batch.ts:
 * one fsync per directory for the whole group) and answers in one message. Synchronous calls on
 * this thread are the point: a dozen steps cost no thread-pool round trip each.
 */
import { type MessagePort, parentPort, receiveMessageOnPort } from 'node:worker_threads'
import { DurableDirs, type FinishReply, type FinishRequest, finishGroup } from './durable-batch.js'
import { durableOps } from './durable-ops.js'

if (!parentPort) throw new Error('durable-write-thread.js runs as a worker thread only')
const port: MessagePort = parentPort

const dirs = new DurableDirs()

port.on('message', (first: FinishRequest) => {
  // What arrives during a group's fsyncs is the next group.
  for (let group = drain([first]); group.length > 0; group = drain([])) {
    port.postMessage(finishGroup(group, durableOps, dirs) satisfies FinishReply[])
  }
})

/** `group` and every message already queued on the port after it. */
function drain(group: FinishRequest[]): FinishRequest[] {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) group.push(m.message as FinishRequest)
  return group
}
