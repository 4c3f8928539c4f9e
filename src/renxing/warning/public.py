"""Public CAP: each public sent warning at /cap/alerts/{identifier}.xml and the Atom feed /cap/feed.atom."""

from fastapi import APIRouter

router = APIRouter(tags=["cap"])
