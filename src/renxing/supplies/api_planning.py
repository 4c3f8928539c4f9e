"""JSON routes of days of autonomy and emergency allocation runs."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from renxing.exporting import XLSX_MEDIA_TYPE, content_disposition
from renxing.supplies import allocating, days
from renxing.supplies.models import AllocationRun
from renxing.supplies.planning_schemas import AllocationIn, CommitIn, CommunityAutonomyOut, RunOut, RunRow
from renxing.web.deps import DB, CurrentUser
from renxing.web.params import Id, ListParams
from renxing.web.schemas import XLSX, PageOut, file_answer

router = APIRouter(prefix="/api/v1/supplies", tags=["supplies"])


def run_row(run: AllocationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "community_id": run.unit_id,
        "scenario_id": run.scenario_id,
        "scenario_name": run.scenario_name,
        "days": run.days,
        "status": run.status,
        "objective": run.objective,
        "met": run.met,
        "shortfall": run.shortfall,
        "created_at": run.created_at,
        "committed_at": run.committed_at,
    }


def run_out(run: AllocationRun) -> dict[str, Any]:
    return {**run_row(run), "result": run.result}


@router.get(
    "/autonomy",
    response_model=CommunityAutonomyOut,
    summary="Days of autonomy of a community, its areas, and (with a scenario) its shelters' evacuees",
)
def autonomy(
    session: DB,
    actor: CurrentUser,
    community_id: Id,
    scenario_id: Annotated[Id | None, Query(description="a saved evacuation scenario of the community")] = None,
) -> dict:
    return days.autonomy_of(session, actor, community_id, scenario_id)


@router.get(
    "/allocations",
    response_model=PageOut[RunRow],
    summary="Allocation runs in scope, one page (q: scenario name; sort: created_at, status)",
)
def list_runs(
    session: DB,
    actor: CurrentUser,
    query: ListParams,
    status: Annotated[str | None, Query(description="proposed, committed or discarded")] = None,
    community_id: Id | None = None,
) -> dict:
    query.filters = {"status": status, "community_id": community_id}
    page = allocating.list_runs(session, actor, query)
    return page.to_dict([run_row(r) for r in page.items])


@router.post(
    "/allocations",
    status_code=201,
    response_model=RunOut,
    summary="Compute an allocation for an evacuation scenario (a proposal: nothing moves yet)",
)
def propose(data: AllocationIn, session: DB, actor: CurrentUser) -> dict:
    return run_out(allocating.propose(session, actor, data.community_id, data.scenario_id, data.days))


@router.get("/allocations/{run_id}", response_model=RunOut, summary="One allocation run with its flows")
def get_run(run_id: Id, session: DB, actor: CurrentUser) -> dict:
    return run_out(allocating.load_run(session, actor, run_id))


@router.post(
    "/allocations/{run_id}/commit",
    response_model=RunOut,
    summary="Post the run's transfers to the ledger (in transit to each shelter's store); all or nothing",
)
def commit(run_id: Id, session: DB, actor: CurrentUser, data: CommitIn | None = None) -> dict:
    return run_out(allocating.commit(session, actor, run_id, occurred_at=data.occurred_at if data else None))


@router.post("/allocations/{run_id}/discard", response_model=RunOut, summary="Discard a proposed run")
def discard(run_id: Id, session: DB, actor: CurrentUser) -> dict:
    return run_out(allocating.discard(session, actor, run_id))


@router.get(
    "/allocations/{run_id}/picklists.pdf",
    response_class=Response,
    responses=file_answer("application/pdf", "the pick lists, one part per storage point, A4"),
    summary="Printable pick lists of a run",
)
def picklists_pdf(run_id: Id, session: DB, actor: CurrentUser) -> Response:
    return Response(
        allocating.pick_lists_file(session, actor, run_id, "pdf"),
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(f"拣货单-{run_id}.pdf", f"picklists-{run_id}.pdf")},
    )


@router.get(
    "/allocations/{run_id}/picklists.xlsx",
    response_class=Response,
    responses=file_answer(XLSX, "the pick lists, one row per line"),
    summary="Pick lists of a run as Excel",
)
def picklists_xlsx(run_id: Id, session: DB, actor: CurrentUser) -> Response:
    return Response(
        allocating.pick_lists_file(session, actor, run_id, "xlsx"),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"拣货单-{run_id}.xlsx", f"picklists-{run_id}.xlsx")},
    )
