{#- CC_CALL, one row per call_id (the latest delivery wins; see macros/incremental.sql),
    caller number pseudonymised. Incremental: a build reads the raw rows of new loads only. -#}
{{
    config(
        materialized='incremental',
        unique_key='call_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['call_id'], 'unique': true},
            {'columns': ['load_id']},
            {'columns': ['refreshed_at']},
            {'columns': ['caller_no_key', 'skill_group']},
        ],
        post_hook="{{ delete_stale_rows('CC_CALL') }}",
    )
}}
{%- set loads = incremental_loads('CC_CALL') %}

with

source as (
    select * from {{ source('raw', 'cc_call') }}
    {%- if incremental_ready() %}
    where
        _load_id in {{ load_list(loads.new) }}
    {%- if loads.stale %}
        or call_id in (select call_id from {{ this }} where load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
),

renamed as (
    select
        s.call_id,
        s.hotline,
        {{ pseudonymise('s.caller_no') }} as caller_no_key,
        s.city_code,
        s.call_start,
        s.ivr_end,
        s.queue_start,
        s.answer_time,
        s.call_end,
        s.skill_group,
        s.agent_id,
        s.end_reason,
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
        t.call_id,
        t.hotline,
        t.caller_no_key,
        t.city_code,
        t.call_start,
        t.ivr_end,
        t.queue_start,
        t.answer_time,
        t.call_end,
        t.skill_group,
        t.agent_id,
        t.end_reason,
        t.business_date,
        t.load_id,
        t.record_no
    from {{ this }} as t
    where
        t.call_id in (select r.call_id from renamed as r)
    {%- if loads.stale %}
        and t.load_id not in {{ load_list(loads.stale) }}
        {%- endif %}
    {%- endif %}
),

deduplicated as (
    -- rows with the same business key count once
    select distinct on (call_id) *
    from candidates
    order by call_id asc, {{ delivery_order() }}
),

final as (
    select
        *,
        now() as refreshed_at
    from deduplicated
)

select * from final
