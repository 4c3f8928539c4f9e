"""Shapes of ratings, scorecards and the satisfaction report going in and out of the API."""

from pydantic import BaseModel, ConfigDict, Field

from renxing.bounds import Id

LABEL_PAIR = "the kind's label as [Chinese, English]"


class RatingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    target_kind: str = Field(description="team or organization")
    target_id: Id
    period: str | None = Field(default=None, description='a quarter, "2026Q4"; default the current one')
    variety: int = Field(ge=1, le=5)
    quality: int = Field(ge=1, le=5)
    responsiveness: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=500)


class MyRating(BaseModel):
    variety: int
    quality: int
    responsiveness: int
    comment: str | None


class RateableOut(BaseModel):
    """A team or organization that served the resident, with their rating of this quarter if any."""

    kind: str = Field(description="team or organization")
    id: int
    name: str
    kind_label: list[str] = Field(description=LABEL_PAIR)
    basis: str = Field(description="the service received: care_visit, activity, report")
    period: str = Field(description="the current quarter")
    mine: MyRating | None


class RatingOut(BaseModel):
    id: int
    created: bool = Field(description="false when an earlier rating of the quarter was updated")
    target_kind: str
    target_id: int
    period: str
    variety: int
    quality: int
    responsiveness: int
    comment: str | None
    basis: str = Field(description="the service received: care_visit, activity, report")


class CommunityRef(BaseModel):
    id: int
    name: str


class ScorecardRow(BaseModel):
    """One team or organization with its figures; means are null without ratings."""

    kind: str
    id: int
    name: str
    kind_label: list[str] = Field(description=LABEL_PAIR)
    count: int = Field(description="ratings")
    variety: float | None
    quality: float | None
    responsiveness: float | None
    raters: int = Field(description="distinct residents rating")
    satisfied: int = Field(description="ratings with a mean of 4 or more")


class ScorecardsOut(BaseModel):
    community: CommunityRef
    period: str | None = Field(description="a quarter, a year, or null for all time")
    rows: list[ScorecardRow]


class TargetRef(BaseModel):
    kind: str
    id: int
    name: str
    kind_label: list[str] = Field(description=LABEL_PAIR)


class TrendPoint(BaseModel):
    month: str = Field(description="YYYY-MM, local time")
    mean: float
    count: int


class CommentOut(BaseModel):
    """A comment, anonymous."""

    at: str = Field(description="ISO 8601")
    period: str
    comment: str
    overall: float


class ScorecardOut(BaseModel):
    """One team's or organization's means, distribution of scores, monthly trend and comments."""

    target: TargetRef
    period: str | None
    count: int
    means: dict[str, float | None] = Field(description="per dimension: variety, quality, responsiveness")
    overall: float | None
    distribution: dict[str, list[int]] = Field(description="per dimension, the number of each score 1..5")
    trend: list[TrendPoint]
    comments: list[CommentOut] = Field(description="the latest 50")


class ReportRowOut(BaseModel):
    name: str
    kind_label: str = Field(description="in the request's language")
    count: int
    variety: float | None
    quality: float | None
    responsiveness: float | None
    overall: float | None


class ReportOut(BaseModel):
    """The public satisfaction report of a community: aggregates only, no names, no comments."""

    community: str
    period: str
    generated: str = Field(description="local time, as printed")
    rows: list[ReportRowOut]
    total_count: int
    raters: int
    share_satisfied: float | None = Field(description="ratings with a mean of 4 or more")
