{#- One row per post-call survey (CC_SURVEY) of a delivered call, with the call's city and
    start: CC_SAT counts surveys by the call's call_start and city. Surveys of calls that were
    not delivered are left out (inner join). -#}
with

surveys as (
    select * from {{ ref('stg_cc__surveys') }}
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
        calls.skill_group
    from surveys
    inner join calls on surveys.call_id = calls.call_id
)

select * from final
