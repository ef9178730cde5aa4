{#- One row per hotline call (10000/10001), with the flags the hotline indicators use.
    Incremental: a build reads the upstream rows written since its own latest build (and the
    keys of replaced loads); see macros/incremental.sql. -#}
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
        ],
        post_hook="{{ delete_stale_rows('CC_CALL') }}",
    )
}}
{%- set loads = incremental_loads('CC_CALL') %}

with

calls as (
    select * from {{ ref('int_calls_with_repeat_call') }}
    {%- if incremental_ready() %}
    where
        {{ refreshed_since_last_build() }}
    {%- if loads.stale %}
        or call_id in (select t.call_id from {{ this }} as t where t.load_id in {{ load_list(loads.stale) }})
        {%- endif %}
    {%- endif %}
),

final as (
    select
        call_id,
        hotline,
        caller_no_key,
        city_code,
        call_start,
        ivr_end,
        queue_start,
        answer_time,
        call_end,
        skill_group,
        agent_id,
        end_reason,
        queue_start is not null as is_agent_request,
        -- short abandon: hung up within 5 s of queueing, excluded from the agent indicators
        -- (call_end NULL: duration unknown, not a short abandon)
        coalesce(
            queue_start is not null and answer_time is null
            and call_end - queue_start <= interval '5 seconds', false
        ) as is_short_abandon,
        extract(epoch from answer_time - queue_start) as wait_seconds,
        (answer_time is not null and answer_time - queue_start <= interval '15 seconds') as is_answered_within_15s,
        -- answered calls only: no repeat call for the same skill group within 48 h (CC_FCR)
        not has_repeat_call_within_48h as is_first_call_resolved,
        load_id,
        now() as refreshed_at
    from calls
)

select * from final
