import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { ApiError, setupState, signIn } from '../api-client.js';

export function LoginPage() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [setup, setSetup] = useState<{ needsFirstAdmin: boolean; command: string } | null>(null);
  useEffect(() => { void setupState().then(setSetup); }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await signIn(String(form.get('username')), String(form.get('password')));
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong username or password.'
        : err instanceof ApiError && err.status === 429 ? `Too many attempts: ${err.message}`
          : `Sign-in failed: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return html`<main id="main" class="login">
    <h1>meterhub</h1>
    ${setup?.needsFirstAdmin && html`<section class="notice" data-testid="first-admin">
      <h2>No account yet</h2>
      <p>Create the first administrator on the host, then sign in:</p>
      <pre><code>${setup.command}</code></pre>
    </section>`}
    <form onSubmit=${submit} aria-describedby=${error ? 'login-error' : undefined}>
      <label for="username">Username</label>
      <input id="username" name="username" autocomplete="username" required />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      ${error && html`<p id="login-error" class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}
