/**
 * The dashboard's static assets by file name, as served under `/dashboard/assets/`. Kept as
 * TypeScript string modules so the build (plain `tsc`) carries them into dist/.
 */
import { API_JS } from './api-js.js'
import { APP_JS } from './app-js.js'
import { DETAIL_JS } from './detail-js.js'
import { DOM_JS } from './dom-js.js'
import { GALLERY_JS } from './gallery-js.js'
import { PREVIEW_JS } from './preview-js.js'
import { STYLE_CSS } from './style-css.js'

export interface DashboardAsset {
  type: string
  body: string
}

const js = (body: string): DashboardAsset => ({ type: 'text/javascript; charset=utf-8', body })

export const DASHBOARD_ASSETS: Readonly<Record<string, DashboardAsset>> = {
  'app.js': js(APP_JS),
  'api.js': js(API_JS),
  'detail.js': js(DETAIL_JS),
  'dom.js': js(DOM_JS),
  'gallery.js': js(GALLERY_JS),
  'preview.js': js(PREVIEW_JS),
  'style.css': { type: 'text/css; charset=utf-8', body: STYLE_CSS },
}
