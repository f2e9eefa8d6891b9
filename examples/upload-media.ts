import { loadConfig, uploadMedia } from '../src/index.js'

const { media, handle } = await uploadMedia(loadConfig({ env: process.env as Record<string, string> }), './reply.jpg', { handle: { platform: 'whatsapp', accountId: '106540352242922' } })
console.log(media.id, handle?.handle.handle, handle?.reused)
