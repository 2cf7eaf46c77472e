"""The demo LMS's HTML: a course page, a launch frame, and the auto-submitting forms of LTI.

Kept as Jinja strings inside the package so the wheel needs no extra package data.
"""

from __future__ import annotations

from typing import Final

STYLE: Final = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --brand:#3454d1; --bg:#f5f7fa; --ok:#0f7b4d; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink);
       background:var(--bg); }
header.lms { background:#233044; color:#fff; padding:.7rem 1.5rem; display:flex; align-items:center;
             gap:1rem; }
header.lms a { color:#fff; text-decoration:none; }
header.lms .brand { font-weight:700; letter-spacing:.02em; }
header.lms .crumb { color:#c5cfdc; }
main { max-width:1100px; margin:1.5rem auto; padding:0 1.5rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:1.2rem 1.4rem;
        margin-bottom:1.2rem; }
h1 { font-size:1.5rem; margin:.2rem 0 .3rem; } h2 { font-size:1.1rem; margin:0 0 .8rem; }
.muted { color:var(--muted); }
table { width:100%; border-collapse:collapse; }
td, th { text-align:left; padding:.55rem .4rem; border-top:1px solid var(--line); vertical-align:middle; }
th { font-size:.8rem; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); border-top:0; }
.tag { display:inline-block; font-size:.75rem; padding:.1rem .5rem; border-radius:99px; background:#eef2ff;
       color:#3743a8; }
.tag.manager { background:#fff4e5; color:#8a4b00; } .tag.learner { background:#e8f7ef; color:#0f6b43; }
.tag.admin { background:#fdecec; color:#9b1c1c; }
button, .button { font:inherit; background:var(--brand); color:#fff; border:0; border-radius:6px;
                  padding:.4rem .85rem; cursor:pointer; text-decoration:none; display:inline-block; }
.button.secondary { background:#fff; color:var(--brand); border:1px solid var(--brand); }
.activities li { margin:.25rem 0; } .activities li.current { font-weight:600; }
.notice { background:#e8f7ef; border:1px solid #b7e4cc; color:var(--ok); padding:.7rem 1rem;
          border-radius:8px; margin-bottom:1rem; }
.error { background:#fdecec; border:1px solid #f5c2c2; color:#9b1c1c; padding:.9rem 1rem; border-radius:8px; }
.frame-bar { display:flex; justify-content:space-between; align-items:center; margin-bottom:.6rem; }
iframe.tool { width:100%; height:70vh; border:1px solid var(--line); border-radius:8px; background:#fff; }
"""

LAYOUT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ page_title }} · {{ platform_name }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{ style|safe }}</style></head>
<body>
<header class="lms"><a class="brand" href="{{ home_url }}" target="_top">{{ platform_name }}</a>
<span class="crumb">{{ course.label }} · {{ course.title }}</span></header>
<main>{% block body %}{% endblock %}</main>
</body></html>"""


def in_layout(body_template: str) -> str:
    """A page template: the LMS chrome around ``body_template`` (composed once, at import)."""
    return LAYOUT.replace("{% block body %}{% endblock %}", body_template)


COURSE_PAGE: Final = """
{% if added %}
<div class="notice" data-testid="activity-added">Activity added: {{ added.title }}</div>
{% endif %}
<div class="card">
  <p class="muted">Course {{ course.label }}</p>
  <h1 data-testid="course-title">{{ course.title }}</h1>
  <p class="muted">A stand-in LMS that launches Cadre over real LTI 1.3 (OIDC login, signed id_token).
  Pick an activity, then launch it as anyone in the course.</p>
</div>
<div class="card">
  <h2>Activities</h2>
  <ul class="activities">
  {% for item in course.activities %}
    <li class="{{ 'current' if item.resource_link_id == activity.resource_link_id }}"
        data-testid="activity">
      <a href="{{ url_for('demo_course', activity=item.resource_link_id) }}">{{ item.title }}</a>
      {% if item.description %}<span class="muted">— {{ item.description }}</span>{% endif %}
    </li>
  {% else %}<li class="muted">No activity yet.</li>{% endfor %}
  </ul>
  {% if designer %}
  <form method="get" action="{{ url_for('demo_deep_link') }}">
    <input type="hidden" name="user" value="{{ designer.sub }}">
    <button type="submit" data-testid="add-activity">Add a Cadre activity (deep linking)</button>
    <span class="muted">as {{ designer.label }}, the course's designer</span>
  </form>
  {% endif %}
</div>
<div class="card">
  <h2>People{% if activity %} · launch “{{ activity.title }}”{% endif %}</h2>
  <table>
    <tr><th>Name</th><th>Job</th><th>Role in the course</th><th></th></tr>
    {% for person in course.people %}
    <tr data-testid="person" data-sub="{{ person.sub }}">
      <td>{{ person.label }}</td>
      <td class="muted">{{ person.title or "" }}</td>
      <td><span class="tag {{ person.role }}">{{ role_labels[person.role] }}</span>
        {% if person.mentees %}<span class="muted">of {{ mentee_names(person) }}</span>{% endif %}</td>
      <td>{% if activity %}
        <form method="get" action="{{ url_for('demo_launch') }}">
          <input type="hidden" name="user" value="{{ person.sub }}">
          <input type="hidden" name="activity" value="{{ activity.resource_link_id }}">
          <button type="submit">Launch as {{ person.label }}</button>
        </form>{% endif %}</td>
    </tr>
    {% endfor %}
  </table>
</div>
"""

FRAME_PAGE: Final = """
<div class="frame-bar">
  <div><strong>{{ heading }}</strong> <span class="muted">as {{ person.label }}
    ({{ role_labels[person.role] }})</span></div>
  <div><a class="button secondary" href="{{ start_url }}" target="_blank" rel="noopener">Open in new tab</a>
    <a class="button secondary" href="{{ url_for('demo_course') }}">Back to the course</a></div>
</div>
<iframe class="tool" name="tool" title="Cadre" src="{{ start_url }}"
        allow="clipboard-write" data-testid="tool-frame"></iframe>
"""

AUTO_SUBMIT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font:15px system-ui,sans-serif;color:#616e7c;margin:2rem}</style></head>
<body>
<form method="post" action="{{ action }}" id="lti-form">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<noscript><button type="submit">Continue</button></noscript>
</form>
<p>{{ title }}…</p>
<script>document.getElementById("lti-form").submit();</script>
</body></html>"""

DEEP_LINK_DONE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activity added</title>
<style>{{ style|safe }}</style></head>
<body><main>
<div class="notice" data-testid="activity-added">Activity added: {{ titles|join(", ") }}</div>
<p><a class="button" href="{{ course_url }}" target="_top">Back to the course</a></p>
</main></body></html>"""

ERROR_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request refused</title>
<style>{{ style|safe }}</style></head>
<body><main><div class="error" data-testid="platform-error"><strong>The LMS refused this request.</strong>
<p>{{ message }}</p></div></main></body></html>"""

ROLE_LABELS: Final = {
    "designer": "Teacher · designer",
    "manager": "Mentor · manager",
    "learner": "Student · learner",
    "admin": "Administrator",
}


TEMPLATES: Final = {
    "course.html": in_layout(COURSE_PAGE),
    "frame.html": in_layout(FRAME_PAGE),
    "auto_submit.html": AUTO_SUBMIT,
    "deep_link_done.html": DEEP_LINK_DONE,
    "error.html": ERROR_PAGE,
}
"""Served through a Jinja ``DictLoader``, so each template is compiled once (the auth endpoint is hot)."""
