"""The operations page's templates (Jinja2, autoescaped), kept in code so the wheel ships them.

No script anywhere: replay and sign-out are plain forms, charts are inline SVG, and the page
reloads itself every minute with a meta refresh.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined

STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a202c;
       margin: 0; background: #f7fafc; }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem;
         padding: .6rem 1.2rem; background: #1a365d; color: #fff; }
header h1 { font-size: 1.15rem; margin: 0; }
header form { display: inline; }
main { padding: 1rem 1.2rem; display: grid; gap: 1rem;
       grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
section { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: .8rem 1rem; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
h3 { font-size: .9rem; margin: .6rem 0 .2rem; font-weight: 600; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #edf2f7;
         vertical-align: top; }
th { font-weight: 600; color: #4a5568; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.reason { font-family: ui-monospace, monospace; font-size: 12px; max-width: 36rem;
            overflow-wrap: anywhere; }
.state-open { color: #9b2c2c; font-weight: 700; }
.state-half_open { color: #b7791f; font-weight: 700; }
.state-closed { color: #276749; }
.notice { margin: 1rem 1.2rem 0; padding: .5rem .8rem; border-radius: 4px;
          background: #ebf8ff; border: 1px solid #90cdf4; }
.notice.warn { background: #fffaf0; border-color: #f6ad55; }
.error { color: #9b2c2c; }
.muted { color: #718096; }
button { font: inherit; padding: .2rem .7rem; border-radius: 4px; border: 1px solid #2b6cb0;
         background: #2b6cb0; color: #fff; cursor: pointer; }
button[disabled] { background: #a0aec0; border-color: #a0aec0; cursor: not-allowed; }
header button { background: transparent; border-color: #fff; }
.login { max-width: 26rem; margin: 4rem auto; background: #fff; border: 1px solid #e2e8f0;
         border-radius: 6px; padding: 1.2rem 1.4rem; }
.login input { width: 100%; box-sizing: border-box; padding: .4rem; margin: .3rem 0 .8rem;
               font: inherit; }
footer { padding: 0 1.2rem 1rem; color: #718096; font-size: 12px; }
"""

BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
{% block head %}{% endblock %}
<title>{% block title %}Waybill operations{% endblock %}</title>
<style nonce="{{ nonce }}">{{ style | safe }}</style>
</head>
<body>
{% block body %}{% endblock %}
</body>
</html>
"""

LOGIN = """{% extends "base.html" %}
{% block title %}Sign in · Waybill operations{% endblock %}
{% block body %}
<div class="login">
  <h1>Waybill operations</h1>
  {% if message %}<p class="error" id="login-message">{{ message }}</p>{% endif %}
  <form method="post" action="{{ login_url }}">
    <label for="api_key">API key</label>
    <input type="password" id="api_key" name="api_key" autocomplete="off" required
           maxlength="256" autofocus>
    <button type="submit" id="sign-in">Sign in</button>
  </form>
  <p class="muted">A key with the admin, monitoring or support role. It is exchanged for a
  session cookie valid for {{ ttl_minutes }} minutes; the key itself is not kept by the
  browser.</p>
</div>
{% endblock %}
"""

ERROR = """{% extends "base.html" %}
{% block title %}{{ status }} · Waybill operations{% endblock %}
{% block body %}
<div class="login">
  <h1>{{ heading }}</h1>
  <p class="error" id="error-message">{{ message }}</p>
  <p><a href="{{ page_url }}">Back to the operations page</a></p>
</div>
{% endblock %}
"""

PAGE = """{% extends "base.html" %}
{% block head %}<meta http-equiv="refresh" content="{{ refresh_seconds }}; url={{ page_url }}">
{% endblock %}
{% block body %}
<header>
  <h1>Waybill operations</h1>
  <div>
    <span id="who">{{ principal.name }} · {{ principal.roles | sort | join(", ") }}</span>
    {% if via == "session" %}
    <form method="post" action="{{ logout_url }}">
      <input type="hidden" name="csrf_token" value="{{ csrf }}">
      <button type="submit" id="sign-out">Sign out</button>
    </form>
    {% endif %}
  </div>
</header>
{% if notice %}<p class="notice{% if notice_warn %} warn{% endif %}" id="notice" role="status">
{{ notice }}</p>{% endif %}
<main>
<section id="queues">
  <h2>Queues</h2>
  {% if snapshot.queues.error %}
  <p class="error">Queue state unavailable ({{ snapshot.queues.error }}); see the logs.</p>
  {% else %}{% set panel = snapshot.queues.data %}
  <table>
    <thead><tr><th>Queue</th><th class="num">Queued</th>
    {% if panel.backend == "rq" %}<th class="num">Running</th><th class="num">Scheduled</th>
    <th class="num">Failed</th>{% endif %}</tr></thead>
    <tbody>
    {% for q in panel.queues %}
      <tr data-queue="{{ q.name }}"><td>{{ q.name }}</td><td class="num">{{ q.queued }}</td>
      {% if panel.backend == "rq" %}<td class="num">{{ q.started }}</td>
      <td class="num">{{ q.scheduled }}</td><td class="num">{{ q.failed }}</td>{% endif %}</tr>
    {% else %}
      <tr><td colspan="5" class="muted">no queues</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% if panel.backend == "rq" %}
  <p{% if not panel.workers %} class="error"{% endif %} id="workers">Workers registered:
  {{ panel.workers }}</p>
  {% else %}
  <p class="muted">In-process queue (embedded mode): jobs run inside the API process.</p>
  {% endif %}
  {% endif %}
</section>

<section id="carriers">
  <h2>Carrier health</h2>
  {% if snapshot.carriers.error %}
  <p class="error">Circuit state unavailable ({{ snapshot.carriers.error }}); see the logs.</p>
  {% else %}
  <table>
    <thead><tr><th>Account</th><th>Carrier</th><th>Circuit</th>
    <th class="num">Recent failures</th><th>Opened</th></tr></thead>
    <tbody>
    {% for c in snapshot.carriers.data %}
      <tr data-account="{{ c.account }}"><td>{{ c.account }}</td><td>{{ c.carrier or "–" }}</td>
      <td class="state-{{ c.state }}">{{ c.state | replace("_", "-") }}</td>
      <td class="num">{{ c.recent_failures }}</td>
      <td>{{ c.opened_at.strftime("%Y-%m-%d %H:%M:%S") if c.opened_at else "–" }}</td></tr>
    {% else %}
      <tr><td colspan="5" class="muted">no carrier accounts configured or seen</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>

<section id="dead-letters" class="wide">
  <h2>Dead letters (<span id="dead-letter-count">{{ snapshot.dead_letters_total }}</span>)</h2>
  {% if snapshot.dead_letters.error %}
  <p class="error">Dead letters unavailable ({{ snapshot.dead_letters.error }}); see the logs.</p>
  {% elif not snapshot.dead_letters.data %}
  <p class="muted" id="no-dead-letters">No dead letters.</p>
  {% else %}
  {% if snapshot.dead_letters_total > snapshot.dead_letters.data | length %}
  <p class="muted">Showing the newest {{ snapshot.dead_letters.data | length }}; use
  <code>waybill dlq list</code> for all.</p>
  {% endif %}
  <table>
    <thead><tr><th>Id</th><th>Queue</th><th>Job</th><th class="num">Attempts</th>
    <th>Failed</th><th>Reason</th><th></th></tr></thead>
    <tbody>
    {% for d in snapshot.dead_letters.data %}
      <tr class="dead-letter" data-dead-id="{{ d.id }}">
        <td>{{ d.id }}</td><td>{{ d.queue }}</td><td>{{ d.job }}</td>
        <td class="num">{{ d.attempts }}</td>
        <td>{{ d.failed_at.strftime("%Y-%m-%d %H:%M:%S") if d.failed_at else "–" }}</td>
        <td class="reason">{{ d.reason }}</td>
        <td>
        {% if can_replay %}
          <form method="post" action="{{ replay_url(d.id) }}">
            <input type="hidden" name="csrf_token" value="{{ csrf }}">
            <input type="hidden" name="job" value="{{ d.job }}">
            <input type="hidden" name="failed_at"
                   value="{{ d.failed_at.isoformat() if d.failed_at else '' }}">
            <button type="submit" class="replay" data-dead-id="{{ d.id }}">Replay</button>
          </form>
        {% else %}
          <button type="button" disabled title="replaying needs the admin role">Replay</button>
        {% endif %}
        </td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>

<section id="exceptions">
  <h2>Tracking exceptions, last 24 h</h2>
  {% if snapshot.exceptions.error %}
  <p class="error">Exceptions unavailable ({{ snapshot.exceptions.error }}); see the logs.</p>
  {% else %}{% set ex = snapshot.exceptions.data %}
  {{ exceptions_svg }}
  <p class="muted" id="exceptions-total">{{ ex.exceptions_total }} exceptions among
  {{ ex.events_total }} tracking events received.</p>
  {% endif %}
</section>

<section id="sla">
  <h2>SLA, last 24 h (p50 / p90)</h2>
  {% if snapshot.sla.error %}
  <p class="error">SLA figures unavailable ({{ snapshot.sla.error }}); see the logs.</p>
  {% else %}
  {% for latency, svg in sla_charts %}
  <h3>{{ latency.name }} <span class="muted">· {{ latency.samples }} samples</span></h3>
  {{ svg }}
  {% endfor %}
  {% endif %}
</section>
</main>
<footer>Generated {{ snapshot.now.strftime("%Y-%m-%d %H:%M:%S") }} UTC · Waybill {{ version }} ·
reloads every {{ refresh_seconds }} s</footer>
{% endblock %}
"""

TEMPLATES = {"base.html": BASE, "login.html": LOGIN, "error.html": ERROR, "ops.html": PAGE}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=DictLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(style=STYLE, **context)
