import { MeterhubError, type Authenticator, type Credentials, type CredentialsChange, type Principal } from '@meterhub/sdk';

/**
 * Lends the authenticator of the plugin that issues credentials (the REST API)
 * to every other plugin, so a live stream or an export accepts exactly the
 * tokens and keys the REST API does, without a second copy of the signing key.
 */
export class AuthBroker {
  #provider: { owner: string; authenticator: Authenticator } | undefined;
  readonly #listeners = new Set<(change: CredentialsChange) => void>();

  /** Follows credential changes (the accounts repositories announce them); the returned function stops it. */
  onCredentialsChanged(listener: (change: CredentialsChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Announces a committed change; a throwing listener does not keep the others from hearing it. */
  credentialsChanged(change: CredentialsChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // The plugin host's guard reports listener failures on the plugin's status.
      }
    }
  }

  provide(owner: string, authenticator: Authenticator): () => void {
    if (this.#provider && this.#provider.owner !== owner) {
      throw new MeterhubError('METERHUB_ERR_CONFLICT', `authentication is already provided by plugin "${this.#provider.owner}"`);
    }
    const entry = { owner, authenticator };
    this.#provider = entry;
    return () => {
      if (this.#provider === entry) this.#provider = undefined;
    };
  }

  get provider(): string | undefined {
    return this.#provider?.owner;
  }

  authenticate(credentials: Credentials): Promise<Principal> {
    if (!this.#provider) {
      return Promise.reject(new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'no plugin provides authentication (is the rest plugin running?)'));
    }
    return this.#provider.authenticator.authenticate(credentials);
  }
}
