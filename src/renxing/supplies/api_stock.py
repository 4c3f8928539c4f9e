"""JSON routes of stock: levels, the ledger, movements, transfers, counts, expiry."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])
