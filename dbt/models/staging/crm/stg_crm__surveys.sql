with

source as (
    select * from {{ source('raw', 'crm_survey') }}
),

deduplicated as (
    -- rows with the same business key count once; a later delivery wins
    select distinct on (survey_id) *
    from source
    order by survey_id, _load_id desc, _record_no desc
),

final as (
    select
        d.survey_id,
        d.customer_id,
        d.touchpoint,
        d.city_code,
        d.survey_time,
        d.score,
        d._load_id as load_id
    from deduplicated as d
)

select * from final
