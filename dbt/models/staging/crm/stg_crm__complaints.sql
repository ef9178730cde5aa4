{#- CRM_COMPLAINT, one row per complaint_id (the latest delivery wins; see
    macros/incremental.sql), contact phone pseudonymised. Incremental: a build reads the raw
    rows of new loads only. -#}
{{ incremental_config('CRM_COMPLAINT', 'complaint_id') }}
{#- the columns of renamed, in order: the current rows of changed keys are selected by them -#}
{%- set columns = [
    'complaint_id', 'customer_id', 'phone_key', 'city_code', 'source', 'category',
    'accept_time', 'first_response_time', 'close_time', 'result', 'business_date', 'load_id',
    'record_no'
] %}
{%- set loads = incremental_loads('CRM_COMPLAINT') %}

with

source as (
    select * from {{ source('raw', 'crm_complaint') }}
    {{ new_loads_filter('complaint_id', loads) }}
),

renamed as (
    select
        s.complaint_id,
        s.customer_id,
        {{ pseudonymise('s.phone') }} as phone_key,
        s.city_code,
        s.source,
        s.category,
        s.accept_time,
        s.first_response_time,
        s.close_time,
        s.result,
        s._business_date as business_date,
        s._load_id as load_id,
        s._record_no as record_no
    from source as s
    cross join {{ pseudonym_key_relation() }} as k
),

candidates as (
    select * from renamed
    -- the current winner of a changed key competes with the new deliveries
    {{ current_winners('complaint_id', columns, loads) }}
),

final as (
    -- rows with the same business key count once
    {{ latest_delivery('complaint_id') }}
)

select * from final
