{#- One row per post-call survey (CC_SURVEY) of a delivered call, with the call's city and
    start: CC_SAT counts surveys by the call's call_start and city. Surveys of calls that were
    not delivered are left out (inner join).
    Incremental: a build rewrites the surveys that stg_cc__surveys or fct_calls rewrote since
    this model's latest build (and those left from a replaced load); rows whose survey or call a correction removed go with their replaced load
    (post-hooks on load_id and call_load_id). See macros/incremental.sql. -#}
{{ incremental_config(
    'CC_SURVEY', 'call_id',
    extra_indexes=[{'columns': ['call_load_id']}],
    extra_post_hooks=["{{ delete_stale_rows('CC_CALL', 'call_load_id') }}"],
) }}
{%- set loads = incremental_loads('CC_SURVEY') %}

with
{%- if incremental_ready() %}

changed as (
    select s.call_id
    from {{ ref('stg_cc__surveys') }} as s
    where {{ refreshed_since_last_build('s.refreshed_at') }}
    union
    select t.call_id
    from {{ this }} as t
    where t.load_id in {{ load_list(loads.stale) }}
    union
    select c.call_id
    from {{ ref('fct_calls') }} as c
    where {{ refreshed_since_last_build('c.refreshed_at') }}
),
{%- endif %}

surveys as (
    select * from {{ ref('stg_cc__surveys') }}
    {%- if incremental_ready() %}
    where call_id in (select changed.call_id from changed)
    {%- endif %}
),

calls as (
    select * from {{ ref('fct_calls') }}
),

final as (
    select
        surveys.call_id,
        surveys.survey_time,
        surveys.score,
        coalesce(surveys.score in (4, 5), false) as is_satisfied,
        calls.hotline,
        calls.city_code,
        calls.call_start,
        calls.skill_group,
        surveys.load_id,
        calls.load_id as call_load_id,
        now() as refreshed_at
    from surveys
    inner join calls on surveys.call_id = calls.call_id
)

select * from final
