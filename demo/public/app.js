// The demo page's script (no inline script: the page works under a strict CSP).
const $ = (id) => document.getElementById(id);
let lastToken;
let gatewayUrl;

function row(name, value) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.textContent = name;
  const td = document.createElement('td');
  const code = document.createElement('code');
  code.textContent = typeof value === 'string' ? value : JSON.stringify(value);
  td.append(code);
  tr.append(th, td);
  return tr;
}

function show(kind, title, rows, note) {
  const box = $('result');
  box.replaceChildren();
  box.className = kind;
  const h = document.createElement('p');
  h.innerHTML = '';
  const strong = document.createElement('strong');
  strong.textContent = title;
  h.append(strong);
  box.append(h);
  if (rows.length) {
    const table = document.createElement('table');
    rows.forEach(([k, v]) => table.append(row(k, v)));
    box.append(table);
  }
  if (note) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = note;
    box.append(p);
  }
}

async function whoami() {
  const me = await (await fetch('/api/whoami')).json();
  gatewayUrl = me.gatewayUrl;
  $('session').textContent = me.session;
  const select = $('customer');
  select.replaceChildren(
    ...me.customers.map((c) => {
      const o = document.createElement('option');
      o.value = c.id;
      o.textContent = c.label;
      o.selected = c.id === me.customer;
      return o;
    }),
  );
}

$('customer').addEventListener('change', async (e) => {
  await fetch('/api/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: e.target.value }),
  });
});

$('get-token').addEventListener('click', async () => {
  const res = await fetch('/api/call-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ queue: $('queue').value }),
  });
  const body = await res.json();
  if (res.ok) {
    lastToken = body.token;
    $('check-token').disabled = false;
    show(
      'ok',
      `Screening passed: token issued (expires ${new Date(body.expiresAt).toLocaleTimeString()})`,
      [...Object.entries(body.claims), ['token bytes', String(body.token.length)]],
      'These are the public claims anyone can read. The private claims (customer id, phone, tier) travel encrypted inside "enc": only the gateway can read them.',
    );
  } else {
    lastToken = undefined;
    $('check-token').disabled = true;
    show('refused', `Screening refused: ${body.error.code} (HTTP ${res.status})`, [
      ['message for the visitor', body.error.human],
      ['for developers', body.error.message],
      ...(body.retryAfterSeconds ? [['retry after', `${body.retryAfterSeconds} s`]] : []),
    ]);
  }
});

$('check-token').addEventListener('click', async () => {
  const res = await fetch(`${gatewayUrl}/v1/tokens/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: lastToken }),
  });
  const body = await res.json();
  if (body.ok) {
    show('ok', 'The gateway accepts this token', [
      ['tenant', body.claims.iss],
      ['session', body.claims.sub],
      ['private claims it decrypted', body.privateClaimNames.join(', ') || '(none)'],
    ]);
  } else {
    show('refused', `The gateway refuses this token: ${body.error.code}`, [
      ['why', body.error.message],
    ]);
  }
});

whoami();
