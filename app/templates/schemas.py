"""Transactional template bodies (`/v3/templates`), field names and order as SendGrid returns them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TemplateCreate(BaseModel):
    name: str = Field(max_length=100)
    generation: str = Field("legacy", description="`legacy` or `dynamic`")


class TemplateUpdate(BaseModel):
    name: str = Field(max_length=100)


class VersionWrite(BaseModel):
    active: int | None = Field(None, description="1 makes this the template's one active version")
    name: str = Field(max_length=100)
    html_content: str | None = None
    plain_content: str | None = None
    generate_plain_content: bool = True
    subject: str = Field(max_length=255)
    editor: str | None = Field(None, description="`code` or `design`")
    test_data: str | None = None


class VersionSummary(BaseModel):
    """A version as the template list shows it."""

    id: str
    template_id: str
    active: int
    name: str
    generate_plain_content: bool
    subject: str
    updated_at: str
    editor: str
    thumbnail_url: str


class Version(BaseModel):
    id: str
    template_id: str
    active: int
    name: str
    html_content: str
    plain_content: str
    generate_plain_content: bool
    subject: str
    updated_at: str
    editor: str
    test_data: str | None = None
    thumbnail_url: str


class Template(BaseModel):
    id: str
    name: str
    generation: str
    updated_at: str
    versions: list[Version]


class TemplateListed(BaseModel):
    id: str
    name: str
    generation: str
    updated_at: str
    versions: list[VersionSummary]


class PageMetadata(BaseModel):
    prev: str | None = None
    self_: str = Field(alias="self")
    next: str | None = None
    count: int

    model_config = ConfigDict(populate_by_name=True)


class TemplatePage(BaseModel):
    result: list[TemplateListed]
    metadata: PageMetadata = Field(alias="_metadata")

    model_config = ConfigDict(populate_by_name=True)


class TemplateList(BaseModel):
    """The unpaged answer (no `page_size`), as SendGrid still gives it."""

    templates: list[TemplateListed]
