#!/bin/sh
# Lab scenario starttls-ettercap: scenario-starttls-strip.sh with the classic tool,
# ettercap -M arp:remote and an etterfilter that replaces STARTTLS in srv's EHLO answer
# while relaying frames at layer 2. The SPAN port sees srv's original segment and the
# attacker's rewritten copy with the same sequence numbers. Expected live:
# tcp.rewritten_in_path (detectors/rewrite.c: the later copy from 02:..:66 differs from
# srv's), arp.ip_mac_changed, and an incident.mitm holding both.
LAB_STRIP_TOOL=ettercap LAB_SCENARIO_NAME=starttls-ettercap
export LAB_STRIP_TOOL LAB_SCENARIO_NAME
exec sh "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lab/scenario-starttls-strip.sh"
