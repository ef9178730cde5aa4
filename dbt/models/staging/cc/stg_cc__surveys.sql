{#- CC_SURVEY, one row per call_id (the latest delivery wins; see macros/incremental.sql).
    Incremental: a build reads the raw rows of new loads only, so neither this model's tests
    nor fct_call_surveys de-duplicate every survey ever delivered at each build. -#}
{{ incremental_config('CC_SURVEY', 'call_id') }}
{#- the columns of renamed, in order: the current rows of changed keys are selected by them -#}
{%- set columns = ['call_id', 'survey_time', 'score', 'business_date', 'load_id', 'record_no'] %}
{%- set loads = incremental_loads('CC_SURVEY') %}

with

source as (
    select * from {{ source('raw', 'cc_survey') }}
    {{ new_loads_filter('call_id', loads) }}
),

renamed as (
    select
        s.call_id,
        s.survey_time,
        s.score,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
),

candidates as (
    select * from renamed
    -- the current winner of a changed key competes with the new deliveries
    {{ current_winners('call_id', columns, loads) }}
),

final as (
    -- rows with the same business key count once
    {{ latest_delivery('call_id') }}
)

select * from final
