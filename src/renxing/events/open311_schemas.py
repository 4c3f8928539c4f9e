"""The shapes of Open311 GeoReport v2 as this server speaks it: the parameters of a posted
request, and each answer as JSON (the XML answers carry the same fields, lists as a wrapper
element of repeated items: ``<services><service>…``). They document the routes of
:mod:`renxing.events.open311`, which render JSON and XML themselves."""

from pydantic import BaseModel, Field


class RequestIn(BaseModel):
    """The parameters of POST requests, as received (empty values already dropped); each is
    checked by :func:`renxing.events.open311_intake.submit`, which names the one at fault."""

    service_code: str | None = Field(None, description="the service (a report category), from GET services")
    jurisdiction_id: str | None = Field(None, description="a street's code, or the installation's own id")
    lat: str | None = Field(None, description="WGS-84 latitude; with long, or address_string instead")
    long: str | None = Field(None, description="WGS-84 longitude")
    address_string: str | None = Field(None, description="a building's address or the names of the place")
    address_id: str | None = Field(None, description="the code of a grid unit")
    email: str | None = None
    device_id: str | None = Field(None, description="at most 120 characters")
    account_id: str | None = Field(None, description="at most 120 characters")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = Field(None, description="an http(s) link to a photo")
    public_consent: str | None = Field(
        None, description="an extension: true when the reporter agrees that a moderated copy may be public"
    )
    attributes: dict[str, list[str]] = Field(
        default_factory=dict, description="the answers, sent as attribute[code]=value (attribute[code][] for lists)"
    )


def post_body_schema() -> dict:
    """The form of POST requests as documented: the parameters, the api_key, our idempotency
    key, the answers as ``attribute[code]`` fields and, in multipart, the photo as ``media``."""
    schema = RequestIn.model_json_schema()
    schema["properties"].pop("attributes")
    schema["properties"]["api_key"] = {"type": "string", "description": "the client's key (required)"}
    schema["properties"]["idempotency_key"] = {"type": "string", "description": "instead of the Idempotency-Key header"}
    schema["patternProperties"] = {r"^attribute\[[^\[\]]{1,60}\](\[\])?$": {"type": "string"}}
    schema["required"] = ["api_key", "service_code"]
    multipart = {**schema, "properties": {**schema["properties"], "media": {"type": "string", "format": "binary"}}}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "multipart/form-data": {"schema": multipart},
            },
        }
    }


class EndpointOut(BaseModel):
    specification: str
    url: str
    changeset: str
    type: str
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="whether the service has a definition with attributes")
    type: str = Field(description="realtime")
    keywords: str
    group: str


class AttributeValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool = Field(description="false for a notice the client shows, not a question")
    code: str
    datatype: str = Field(description="string, number, datetime, text, singlevaluelist or multivaluelist")
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[AttributeValueOut]


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class ServiceRequestOut(BaseModel):
    """A public report in Open311's words: no reporter, no flat, no exact point."""

    service_request_id: int
    status: str = Field(description="open or closed")
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None = Field(description="the text staff published; empty until they do")
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class CreatedOut(BaseModel):
    service_request_id: int
    service_notice: str | None
    account_id: str | None


class TokenOut(BaseModel):
    service_request_id: int
    token: str


class Open311ErrorOut(BaseModel):
    """The spec's error: a list of these (``<errors><error>…`` in XML)."""

    code: int
    description: str
