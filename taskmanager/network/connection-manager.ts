// One gRPC client (HTTP/2 connection) per producer TaskManager address, shared by all remote
// input channels of this TaskManager; each channel opens its own stream on it.
import type * as grpc from '@grpc/grpc-js';
import { createClient } from '../../common/security/grpc-security.js';
import { NO_INTERNAL_SECURITY, type InternalSecurity } from '../../common/security/internal-security.js';
import { dataExchangeClientConstructor } from './data-messages.js';

export class ConnectionManager {
  private readonly clients = new Map<string, grpc.Client>();
  private closed = false;

  constructor(private readonly security: InternalSecurity = NO_INTERNAL_SECURITY) {}

  clientFor(address: string): grpc.Client {
    if (this.closed) throw new Error('the network environment is closed');
    let client = this.clients.get(address);
    if (!client) {
      client = createClient(dataExchangeClientConstructor(), address, this.security);
      this.clients.set(address, client);
    }
    return client;
  }

  close(): void {
    this.closed = true;
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
