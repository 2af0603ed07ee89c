// One gRPC client (HTTP/2 connection) per producer TaskManager address, shared by all remote
// input channels of this TaskManager; each channel opens its own stream on it.
import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS } from '../../common/rpc.js';
import { dataExchangeClientConstructor } from './data-messages.js';

export class ConnectionManager {
  private readonly clients = new Map<string, grpc.Client>();
  private closed = false;

  clientFor(address: string): grpc.Client {
    if (this.closed) throw new Error('the network environment is closed');
    let client = this.clients.get(address);
    if (!client) {
      const Ctor = dataExchangeClientConstructor();
      client = new Ctor(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
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
