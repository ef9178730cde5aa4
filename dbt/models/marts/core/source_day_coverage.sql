{#- Items per source entity, local business day and city: what the gate's coverage check
    reads to refuse a period with missing city-days (no indicator from partial data).
    Incremental: a build recounts the days of the items staging wrote since this model's
    latest build (delete+insert by entity and day). An item can also leave a day that is not
    recounted (a correction moved or removed it); every other day's count can then only be
    too high, never too low, so the per-entity totals tell: when they differ from staging's
    item counts, the post-hook recounts everything. -#}
{{ config(
    materialized='incremental',
    unique_key=['entity', 'business_date'],
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['entity', 'business_date', 'city_code'], 'unique': true},
        {'columns': ['refreshed_at']},
    ],
    post_hook=["{{ recount_coverage_if_totals_differ() }}"],
) }}

with

final as (
    {{ coverage_rows(incremental_ready(needs=['refreshed_at'])) }}
)

select * from final
