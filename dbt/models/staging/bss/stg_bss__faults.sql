{#- BSS_FAULT, one row per ticket_id (the latest delivery wins: a ticket reported on one day
    and restored on a later one is delivered again with its restore_time), line number
    pseudonymised. Incremental: a build reads the raw rows of new loads only. -#}
{{
    config(
        materialized='incremental',
        unique_key='ticket_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['ticket_id'], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_at']},
            {'columns': ['line_no_key']},
        ],
        post_hook="{{ delete_stale_rows('BSS_FAULT') }}",
    )
}}
{%- set loads = incremental_loads('BSS_FAULT') %}

with

source as (
    select * from {{ source('raw', 'bss_fault') }}
    {%- if incremental_ready() %}
    where
        _load_id in {{ load_list(loads.new) }}
    {%- if loads.stale %}
        or ticket_id in (select ticket_id from {{ this }} where load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
),

renamed as (
    select
        s.ticket_id,
        {{ pseudonymise('s.line_no') }} as line_no_key,
        s.product,
        s.city_code,
        s.county_code,
        s.area_type,
        s.report_time,
        s.restore_time,
        s.fault_class,
        s.source,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    {%- if incremental_ready() %}
    union all
    -- the current winner of a changed key competes with the new deliveries
    select
        t.ticket_id,
        t.line_no_key,
        t.product,
        t.city_code,
        t.county_code,
        t.area_type,
        t.report_time,
        t.restore_time,
        t.fault_class,
        t.source,
        t.business_date,
        t.load_id,
        t.record_no
    from {{ this }} as t
    where
        t.ticket_id in (select r.ticket_id from renamed as r)
    {%- if loads.stale %}
        and t.load_id not in {{ load_list(loads.stale) }}
        {%- endif %}
    {%- endif %}
),

deduplicated as (
    -- rows with the same business key count once
    select distinct on (ticket_id) *
    from candidates
    order by ticket_id asc, {{ delivery_order() }}
),

final as (
    select
        *,
        now() as refreshed_at
    from deduplicated
)

select * from final
