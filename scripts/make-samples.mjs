// Makes the emulator's sample media once (they are committed in src/emulator/samples/ and copied
// into dist by the build): a photo-like JPEG (with EXIF and GPS, as a phone writes them, so
// MEDIAGATE_STRIP_METADATA has something to strip) and PNG, a voice note in OGG/Opus, a short
// H.264/AAC MP4, a real PDF and an animated WebP sticker. Needs sharp and ffmpeg:
//   node scripts/make-samples.mjs
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const out = fileURLToPath(new URL('../src/emulator/samples/', import.meta.url))
mkdirSync(out, { recursive: true })

/** A landscape: a sky gradient, a sun, hills, and grain, deterministic (seeded). */
function landscape(width, height, grain) {
  const px = Buffer.alloc(width * height * 3)
  let seed = 12345
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = y / height
      let r = 90 + 120 * t
      let g = 150 + 70 * t
      let b = 235 - 60 * t
      const dx = x - width * 0.72
      const dy = y - height * 0.28
      if (dx * dx + dy * dy < (height * 0.09) ** 2) [r, g, b] = [255, 226, 140]
      const hill = height * (0.62 + 0.08 * Math.sin(x / (width / 7)) + 0.04 * Math.sin(x / (width / 23)))
      if (y > hill) {
        const d = (y - hill) / height
        ;[r, g, b] = [60 + 40 * d, 120 - 30 * d + 20 * Math.sin(x / 13), 50]
      }
      const n = (rand() - 0.5) * grain
      const i = (y * width + x) * 3
      px[i] = Math.max(0, Math.min(255, r + n))
      px[i + 1] = Math.max(0, Math.min(255, g + n))
      px[i + 2] = Math.max(0, Math.min(255, b + n))
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } })
}

const exif = {
  IFD0: { Make: 'mediagate', Model: 'Sample Phone', Software: 'make-samples' },
  IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
}
await landscape(1600, 1200, 28).jpeg({ quality: 82 }).withExif(exif).toFile(join(out, 'photo.jpg'))
await landscape(640, 480, 10).png({ compressionLevel: 9 }).toFile(join(out, 'photo.png'))

const ffmpeg = (...args) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args])
// A voice-like tone: a pitch that wanders, syllables as an amplitude envelope, a pause.
ffmpeg(
  '-f', 'lavfi', '-i', "aevalsrc='0.6*abs(sin(3.1*PI*t))*(lt(mod(t,2.2),1.8))*sin(2*PI*(180+40*sin(2*PI*0.7*t))*t)':s=48000:d=4",
  '-ac', '1', '-c:a', 'libopus', '-b:a', '24k', '-application', 'voip', '-map_metadata', '-1', join(out, 'voice.ogg'),
)
ffmpeg(
  '-f', 'lavfi', '-i', 'testsrc2=s=640x360:r=25:d=3', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:d=3',
  '-c:v', 'libx264', '-preset', 'medium', '-crf', '26', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k', '-movflags', '+faststart', '-map_metadata', '-1', '-shortest', join(out, 'clip.mp4'),
)
ffmpeg('-f', 'lavfi', '-i', 'testsrc2=s=512x512:r=10:d=2', '-vf', 'format=rgba', '-c:v', 'libwebp', '-loop', '0', '-quality', '60', '-an', join(out, 'sticker.webp'))

// A one-page PDF with real text, written by hand (offsets counted), readable by any viewer.
const lines = ['mediagate sandbox', 'A sample document the emulator sends as a WhatsApp document', 'or a Messenger file. Its first page is what a PDF renderer', 'would show as its thumbnail.']
const text = ['BT /F1 20 Tf 56 760 Td', `(${lines[0]}) Tj`, '/F1 12 Tf', ...lines.slice(1).flatMap((l) => ['0 -24 Td', `(${l}) Tj`]), 'ET'].join('\n')
const objects = [
  '<< /Type /Catalog /Pages 2 0 R >>',
  '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
  '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
  `<< /Length ${text.length} >>\nstream\n${text}\nendstream`,
  '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
]
let pdf = '%PDF-1.4\n'
const offsets = []
objects.forEach((body, i) => {
  offsets.push(pdf.length)
  pdf += `${i + 1} 0 obj\n${body}\nendobj\n`
})
const xref = pdf.length
pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`
pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
writeFileSync(join(out, 'document.pdf'), pdf, 'latin1')
