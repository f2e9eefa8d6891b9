// The gateway on a catalog and a blob store you open (and close) yourself: any implementation
// of the Catalog and BlobStore contracts plugs in, e.g. one shared with your own code.
import { type BlobStore, type Catalog, createGateway, type Gateway, loadConfig, openBlobStore, openCatalog } from '../src/index.js'

export async function startOnOwnBackends(env: Record<string, string>, databaseUrl: string, storageUrl: string): Promise<{ gateway: Gateway; catalog: Catalog; blobs: BlobStore }> {
  const config = loadConfig({ env: { MEDIAGATE_PORT: '0', ...env } })
  const catalog = await openCatalog(databaseUrl)
  const blobs = await openBlobStore(storageUrl)
  const gateway = await createGateway(config, { catalog, blobs })
  await gateway.start() // migrates the catalog and prepares the store it was given
  return { gateway, catalog, blobs } // later: await gateway.close(), then close catalog and blobs
}
